{#- Every version of every EIA observation: the one in raw now and each one a revision replaced (kept by the
    loader in raw.eia_observations_history), with the interval in which it was the known value:
    the first version from its release (available_at), a revision from when CBI loaded it (its publication
    time is not known better), each until the next version became known. -#}
with

current_rows as (

    select
        *,
        null::timestamp as _superseded_at

    from {{ source('eia', 'eia_observations') }}

),

replaced_rows as (

    select * exclude (_superseded_by_run_id)
    from {{ source('eia', 'eia_observations_history') }}

),

source as (

    select * from current_rows
    union all by name
    select * from replaced_rows

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
        _run_id as ingest_run_id,
        _superseded_at::timestamp as superseded_at

    from source

),

versioned as (

    select
        *,
        {{ version_start_columns(['series_id', 'period_date']) }}

    from renamed

),

final as (

    select
        *,
        {{ version_end_columns(['series_id', 'period_date']) }}

    from versioned

)

select * from final
