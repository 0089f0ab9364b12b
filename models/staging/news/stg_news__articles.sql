with

source as (

    select * from {{ source('news', 'news_articles') }}

),

renamed as (

    select
        article_id::varchar as article_id,
        lower(feed)::varchar as feed,
        published_at::timestamp as published_at,
        title::varchar as title,
        summary::varchar as summary_text,
        url::varchar as url,
        string_split(coalesce(categories, ''), '|') as categories,
        available_at::timestamp as available_at,
        _loaded_at::timestamp as loaded_at,
        _run_id as ingest_run_id

    from source

)

select * from renamed
