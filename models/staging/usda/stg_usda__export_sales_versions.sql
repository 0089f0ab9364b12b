{#- Every version of every USDA export sales row: the one in raw now and each one a revision replaced (kept by the
    loader in raw.usda_export_sales_history), with the interval in which it was the known value:
    the first version from its release (available_at), a revision from when CBI loaded it (its publication
    time is not known better), each until the next version became known. -#}
{{ versioned_source(
    'usda',
    'usda_export_sales',
    columns=[
        "lower(commodity)::varchar as commodity",
        "upper(destination)::varchar as destination",
        "week_ending_date::date as week_ending_date",
        "net_sales_mt::double as net_sales_mt",
        "exports_mt::double as exports_mt",
        "outstanding_sales_mt::double as outstanding_sales_mt",
    ],
    key=['commodity', 'destination', 'week_ending_date']
) }}
