with

source as (

    select * from {{ source('eia', 'eia_observations') }}

),

renamed as (

    select
        lower(series_id)::varchar as series_id,
        period_date::date as period_date,
        lower(frequency)::varchar as frequency,
        value::double as observation_value,
        units::varchar as units,
        available_at::timestamp as available_at,
        _loaded_at::timestamp as loaded_at,
        _run_id as ingest_run_id

    from source

)

select * from renamed
