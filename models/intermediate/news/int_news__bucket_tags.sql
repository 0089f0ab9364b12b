{#- One row per (article, bucket) for every article whose title or summary contains a keyword of the bucket
    (seed `news_bucket_keywords`). An article can belong to several buckets. -#}
with

articles as (

    select * from {{ ref('stg_news__articles') }}

),

keywords as (

    select * from {{ ref('news_bucket_keywords') }}

),

matches as (

    select
        articles.article_id,
        keywords.bucket,
        articles.published_at,
        articles.available_at,
        count(*) as n_keyword_hits

    from articles
    inner join keywords
        on
            contains(lower(articles.title), lower(keywords.keyword))
            or contains(lower(coalesce(articles.summary_text, '')), lower(keywords.keyword))
    group by articles.article_id, keywords.bucket, articles.published_at, articles.available_at

)

select * from matches
