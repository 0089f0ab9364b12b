with

source as (

    select * from {{ source('fred', 'fred_observations') }}

),

renamed as (

    select
        upper(series_id)::varchar as series_id,
        observation_date::date as observation_date,
        value::double as observation_value,
        value is null as is_missing,
        available_at::timestamp as available_at,
        realtime_start::date as realtime_start_date,
        _loaded_at::timestamp as loaded_at,
        _run_id as ingest_run_id

    from source

)

select * from renamed
