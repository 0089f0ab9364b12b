with

source as (

    select * from {{ source('usda', 'usda_export_sales') }}

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
        _run_id as ingest_run_id

    from source

)

select * from renamed
