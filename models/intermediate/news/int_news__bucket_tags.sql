{#- One row per (article, bucket) for every article whose title or summary contains a keyword of the bucket
    (seed `news_bucket_keywords`) as whole words: `rin` tags "RIN prices" and "RINs", not "bring" or "safrinha";
    a phrase (`renewable diesel`) matches its words in order; a regular plural (trailing "s") also matches; a
    keyword ending in `*` is a stem (`retaliat*`: retaliate, retaliation). An article can belong to several
    buckets. -#}
with

articles as (

    select * from {{ ref('stg_news__articles') }}

),

keywords as (

    select * from {{ ref('news_bucket_keywords') }}

),

patterns as (

    select
        bucket,
        keyword,
        '\b'
        || replace(regexp_escape(rtrim(lower(trim(keyword)), '*')), '\ ', '\s+')
        || case when ends_with(trim(keyword), '*') then '' else 's?\b' end as keyword_pattern

    from keywords

),

article_text as (

    select
        article_id,
        published_at,
        available_at,
        -- the separator keeps a phrase from running from the title into the summary
        lower(coalesce(title, '') || ' | ' || coalesce(summary_text, '')) as text_lower

    from articles

),

matches as (

    select
        article_text.article_id,
        patterns.bucket,
        article_text.published_at,
        article_text.available_at,
        count(*) as n_keyword_hits

    from article_text
    inner join patterns
        on regexp_matches(article_text.text_lower, patterns.keyword_pattern)
    group by article_text.article_id, patterns.bucket, article_text.published_at, article_text.available_at

)

select * from matches
