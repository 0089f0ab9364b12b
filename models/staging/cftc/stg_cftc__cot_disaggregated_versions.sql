{#- Every version of every CFTC report row: the one in raw now and each one a revision replaced (kept by the
    loader in raw.cftc_cot_disaggregated_history), with the interval in which it was the known value:
    the first version from its release (available_at), a revision from when CBI loaded it (its publication
    time is not known better), each until the next version became known. -#}
with

current_rows as (

    select
        *,
        null::timestamp as _superseded_at

    from {{ source('cftc', 'cftc_cot_disaggregated') }}

),

replaced_rows as (

    select * exclude (_superseded_by_run_id)
    from {{ source('cftc', 'cftc_cot_disaggregated_history') }}

),

source as (

    select * from current_rows
    union all by name
    select * from replaced_rows

),

renamed as (

    select
        upper(market_code)::varchar as root,
        report_date::date as report_date,
        lower(report_type)::varchar as report_type,
        open_interest::bigint as open_interest_contracts,
        prod_merc_long::bigint as prod_merc_long_contracts,
        prod_merc_short::bigint as prod_merc_short_contracts,
        swap_long::bigint as swap_long_contracts,
        swap_short::bigint as swap_short_contracts,
        managed_money_long::bigint as managed_money_long_contracts,
        managed_money_short::bigint as managed_money_short_contracts,
        other_reportable_long::bigint as other_reportable_long_contracts,
        other_reportable_short::bigint as other_reportable_short_contracts,
        nonreportable_long::bigint as nonreportable_long_contracts,
        nonreportable_short::bigint as nonreportable_short_contracts,
        available_at::timestamp as available_at,
        _loaded_at::timestamp as loaded_at,
        _run_id as ingest_run_id,
        _superseded_at::timestamp as superseded_at

    from source

),

versioned as (

    select
        *,
        {{ version_start_columns(['root', 'report_type', 'report_date']) }}

    from renamed

),

final as (

    select
        *,
        {{ version_end_columns(['root', 'report_type', 'report_date']) }}

    from versioned

)

select * from final
