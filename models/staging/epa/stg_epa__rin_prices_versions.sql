{#- Every version of every EPA RIN price row: the one in raw now and each one a revision replaced (kept by the
    loader in raw.epa_rin_prices_history), with the interval in which it was the known value:
    the first version from its release (available_at), a revision from when CBI loaded it (its publication
    time is not known better), each until the next version became known. -#}
{{ versioned_source(
    'epa',
    'epa_rin_prices',
    columns=[
        "upper(rin_type)::varchar as rin_type",
        "week_ending_date::date as week_ending_date",
        "price_usd_per_rin::double as price_usd_per_rin",
    ],
    key=['rin_type', 'week_ending_date']
) }}
