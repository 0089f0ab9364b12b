{#- Every L0 member's predictions in one table: out-of-fold rows (walk-forward, purged; fold >= 0, with the
    realised target y) and the latest forecast (fold = -1). -#}
{%- set members = cbi_l0_members() -%}
-- noqa: disable=LT02
-- (indentation inside the jinja loops below is generated)
with

{%- for member in members %}

{{ member }} as (

    select * from {{ ref('ml_l0_' ~ member) }}

),
{%- endfor %}

unioned as (

    {%- for member in members %}
    select
        as_of_date::date as as_of_date,
        horizon,
        horizon_days,
        member,
        fold,
        {%- for column in cbi_quantile_columns() %}
        {{ column }},
        {%- endfor %}
        y,
        scale,
        model_run_id,
        trained_at,
        model_path
    from {{ member }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

)

select * from unioned
