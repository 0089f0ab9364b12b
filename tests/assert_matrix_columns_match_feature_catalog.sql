{#- Every feature column of daily_ml_matrix_zl (not the key, the targets or the staleness flags) is in
    feature_catalog and vice versa, so the ML side's view of
    the buckets (read from the catalog) can never drift from the matrix it trains on. #}
-- depends_on: {{ ref('daily_ml_matrix_zl') }}

with

matrix_columns as (

    {%- if execute %}
        select column_list.feature_name
        from (
            values
            {%- set names = [] %}
            {%- for column in adapter.get_columns_in_relation(ref('daily_ml_matrix_zl')) %}
                {%- if column.name != 'as_of_date' and not column.name.startswith('target_')
                      and column.name not in cbi_stale_flag_columns() %}
                    {%- do names.append("('" ~ column.name ~ "')") %}
                {%- endif %}
            {%- endfor %}
            {{ names | join(', ') }}
        ) as column_list (feature_name)
    {%- else %}
    select null::varchar as feature_name where false
    {%- endif %}

),

catalog as (

    select feature_name from {{ ref('feature_catalog') }}

),

mismatches as (

    (
        select
            feature_name,
            'in matrix, not in catalog' as problem
        from matrix_columns
        except
        select
            feature_name,
            'in matrix, not in catalog' as problem
        from catalog
    )
    union all
    (
        select
            feature_name,
            'in catalog, not in matrix' as problem
        from catalog
        except
        select
            feature_name,
            'in catalog, not in matrix' as problem
        from matrix_columns
    )

)

select * from mismatches
