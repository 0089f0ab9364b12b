{#- Every version of every EIA observation: the one in raw now and each one a revision replaced (kept by the
    loader in raw.eia_observations_history), with the interval in which it was the known value:
    the first version from its release (available_at), a revision from when CBI loaded it (its publication
    time is not known better), each until the next version became known. -#}
{{ versioned_source(
    'eia',
    'eia_observations',
    columns=[
        "lower(series_id)::varchar as series_id",
        "period_date::date as period_date",
        "lower(frequency)::varchar as frequency",
        "value::double as observation_value",
        "units::varchar as units",
    ],
    key=['series_id', 'period_date']
) }}
