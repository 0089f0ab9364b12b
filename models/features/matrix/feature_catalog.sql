{#- Which features the models use and which bucket each belongs to, read from the feature marts themselves:
    a feature belongs to the mart that computes it (core, one of the `cbi_buckets`, or technicals). The ML
    side reads this table: a bucket specialist trains on core + its bucket, the main predictor on all.
    `sources` lists the dbt sources the feature's mart reads (comma-separated): a member whose features come
    from a stale source skips its latest forecast (cbi_ml.members.freshness). -#}
{%- set marts = [('core', ref('core_macro_fx'))] -%}
{%- for bucket in cbi_buckets() %}{% do marts.append((bucket, ref('bucket_' ~ bucket))) %}{% endfor -%}
{%- do marts.append(('technicals', ref('technicals'))) -%}
with

catalog as (

    {%- if execute %}
        select * from (
            values
            {%- set rows = [] %}
            {%- for bucket, relation in marts %}
                {%- set sources = cbi_upstream_sources(relation.identifier) | join(',') %}
                {%- for column in adapter.get_columns_in_relation(relation) if column.name != 'as_of_date' %}
        {%- do rows.append("('" ~ column.name ~ "', '" ~ bucket ~ "', '" ~ relation.identifier ~ "', "
                           ~ ('true' if column.name.endswith('_score') else 'false') ~ ", '" ~ sources ~ "')") %}
                {%- endfor %}
            {%- endfor %}
            {{ rows | join(',\n        ') }}
        ) as features (feature_name, bucket, source_model, is_bucket_score, sources)  -- noqa: AL05
    {%- else %}
    select
        null::varchar as feature_name,
        null::varchar as bucket,
        null::varchar as source_model,
        null::boolean as is_bucket_score,
        null::varchar as sources
    where false
    {%- endif %}

)

select * from catalog
