{#- Every version of every USDA export sales row: the one in raw now and each one a revision replaced (kept by the
    loader in raw.usda_export_sales_history), with the interval in which it was the known value:
    the first version from its release (available_at), a revision from when CBI loaded it (its publication
    time is not known better), each until the next version became known. -#}
with

current_rows as (

    select
        *,
        null::timestamp as _superseded_at

    from {{ source('usda', 'usda_export_sales') }}

),

replaced_rows as (

    select * exclude (_superseded_by_run_id)
    from {{ source('usda', 'usda_export_sales_history') }}

),

source as (

    select * from current_rows
    union all by name
    select * from replaced_rows

),

renamed as (

    select
        lower(commodity)::varchar as commodity,
        upper(destination)::varchar as destination,
        week_ending_date::date as week_ending_date,
        net_sales_mt::double as net_sales_mt,
        exports_mt::double as exports_mt,
        outstanding_sales_mt::double as outstanding_sales_mt,
        available_at::timestamp as available_at,
        _loaded_at::timestamp as loaded_at,
        _run_id as ingest_run_id,
        _superseded_at::timestamp as superseded_at

    from source

),

versioned as (

    select
        *,
        {{ version_start_columns(['commodity', 'destination', 'week_ending_date']) }}

    from renamed

),

final as (

    select
        *,
        {{ version_end_columns(['commodity', 'destination', 'week_ending_date']) }}

    from versioned

)

select * from final
