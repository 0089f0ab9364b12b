{#- The ZL price path and the bucket scores behind the forecast (one per entry of the `cbi_buckets` var), one row
    per ZL trading day: what the dashboard charts beside the forecast (public, so readers need nothing from the
    protected feature schema). -#}
{%- set buckets = cbi_buckets() -%}
with

matrix as (

    select * from {{ ref('daily_ml_matrix_zl') }}

),

final as (

    select
        as_of_date::date as as_of_date,
        zl_close_cents_per_lb::double as zl_close_cents_per_lb,
        {%- for bucket in buckets %}
            {{ bucket }}_score::double as {{ bucket }}_score{% if not loop.last %},{% endif %}
        {%- endfor %}

    from matrix

)

select * from final
