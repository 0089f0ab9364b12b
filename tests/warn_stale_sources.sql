{{ config(severity='warn') }}
{#- Warns on every build while a source is stale on the latest day; the rows name it and since when. #}
select * from {{ ref('stale_sources') }}
