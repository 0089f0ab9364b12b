{#- Every version of every CFTC report row: the one in raw now and each one a revision replaced (kept by the
    loader in raw.cftc_cot_disaggregated_history), with the interval in which it was the known value:
    the first version from its release (available_at), a revision from when CBI loaded it (its publication
    time is not known better), each until the next version became known. -#}
{{ versioned_source(
    'cftc',
    'cftc_cot_disaggregated',
    columns=[
        "upper(market_code)::varchar as root",
        "report_date::date as report_date",
        "lower(report_type)::varchar as report_type",
        "open_interest::bigint as open_interest_contracts",
        "prod_merc_long::bigint as prod_merc_long_contracts",
        "prod_merc_short::bigint as prod_merc_short_contracts",
        "swap_long::bigint as swap_long_contracts",
        "swap_short::bigint as swap_short_contracts",
        "managed_money_long::bigint as managed_money_long_contracts",
        "managed_money_short::bigint as managed_money_short_contracts",
        "other_reportable_long::bigint as other_reportable_long_contracts",
        "other_reportable_short::bigint as other_reportable_short_contracts",
        "nonreportable_long::bigint as nonreportable_long_contracts",
        "nonreportable_short::bigint as nonreportable_short_contracts",
    ],
    key=['root', 'report_type', 'report_date']
) }}
