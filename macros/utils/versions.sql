{#- Point in time for revised rows. The relation holds every version of a raw row: the current one
    (superseded_at NULL) and those the loader moved to raw.<table>_history, stamped with the time of the run
    that replaced them; `key` is the row's natural key. Versions are ordered by when they were replaced (ties, which a
    single load cannot make, by the run that loaded them: a total order, so every build numbers them alike).

    version_start_columns(key), in a select over that relation, adds
      version_number  1 for the first version CBI loaded, then 2, 3, ...
      known_from_at   when the version could be known: the first version from its release (available_at);
                      a revision from when CBI loaded it (the greater of available_at and loaded_at): when the
                      source published it is not recorded, only that it was not after the load.
    version_end_columns(key), in a select over the result, adds
      known_until_at  known_from_at of the next version (NULL for the current one)
      is_current      the version that is in raw now. -#}

{% macro _version_order(key) -%}
    (partition by {{ key | join(', ') }} order by superseded_at asc nulls last, loaded_at asc, ingest_run_id asc)
{%- endmacro %}

{% macro version_start_columns(key) -%}
    row_number() over {{ _version_order(key) }} as version_number,
    case
        when row_number() over {{ _version_order(key) }} = 1 then available_at
        else greatest(available_at, loaded_at)
    end as known_from_at
{%- endmacro %}

{% macro version_end_columns(key) -%}
    lead(known_from_at) over (partition by {{ key | join(', ') }} order by version_number) as known_until_at,
    superseded_at is null as is_current
{%- endmacro %}

{#- versioned_source(source_name, table_name, columns, key): the whole query of a `stg_<source>__<table>_versions`
    model: every version of every row of raw.<table_name> (the one raw holds now and each one a revision replaced,
    kept by the loader in raw.<table_name>_history), renamed and typed by `columns` (select expressions), with
    the load metadata, `version_start_columns(key)` and `version_end_columns(key)`. -#}
{% macro versioned_source(source_name, table_name, columns, key) -%}
with

current_rows as (

    select
        *,
        null::timestamp as _superseded_at

    from {{ source(source_name, table_name) }}

),

replaced_rows as (

    select * exclude (_superseded_by_run_id)
    from {{ source(source_name, table_name ~ '_history') }}

),

source_rows as (

    select * from current_rows
    union all by name
    select * from replaced_rows

),

renamed as (

    select
        {%- for column in columns %}
        {{ column }},
        {%- endfor %}
        available_at::timestamp as available_at,
        _loaded_at::timestamp as loaded_at,
        _run_id as ingest_run_id,
        _superseded_at::timestamp as superseded_at

    from source_rows

),

versioned as (

    select
        *,
        {{ version_start_columns(key) }}

    from renamed

),

final as (

    select
        *,
        {{ version_end_columns(key) }}

    from versioned

)

select * from final
{%- endmacro %}

{#- current_version(versions_model): the whole query of a current-version twin: the rows of `versions_model`
    that raw holds now, without the version columns. -#}
{% macro current_version(versions_model) -%}
with

versions as (

    select * from {{ ref(versions_model) }}

),

final as (

    select * exclude (superseded_at, version_number, known_from_at, known_until_at, is_current)
    from versions
    where is_current

)

select * from final
{%- endmacro %}

{#- versions_known_at_moments(versions, period_column, columns, lookback_days, partition_by): the state of a
    versioned source at every moment something about it became known, for the point-in-time windows of the
    `int_*_as_of` models. `versions` (a CTE or relation with `known_from_at` and `known_until_at`, see above) is
    rebuilt at each distinct `known_from_at` of its partition (`partition_by`, e.g. ['root']; [] for one
    partition): one row per partition, moment (`known_at`) and period of the last `lookback_days` days before
    it, each period in the version in force at that moment, with `period_column` and `columns`. Windows
    computed over `partition_by, known_at` then see only what was known at that moment; a revision loaded
    later cannot change them. -#}
{% macro versions_known_at_moments(versions, period_column, columns, lookback_days, partition_by=[]) -%}
    select
        {%- for column in partition_by %}
        moments.{{ column }},
        {%- endfor %}
        moments.known_at,
        versions.{{ period_column }},
        {%- for column in columns %}
        versions.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}

    from (
        select distinct
            {%- for column in partition_by %}
            {{ column }},
            {%- endfor %}
            known_from_at as known_at
        from {{ versions }}
    ) as moments
    inner join {{ versions }} as versions
        on
            moments.known_at >= versions.known_from_at
            and (moments.known_at < versions.known_until_at or versions.known_until_at is null)
            and moments.known_at::date - interval {{ lookback_days }} day < versions.{{ period_column }}
            {%- for column in partition_by %}
            and moments.{{ column }} = versions.{{ column }}
            {%- endfor %}
{%- endmacro %}
