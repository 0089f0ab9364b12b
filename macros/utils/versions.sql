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
