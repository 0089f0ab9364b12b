{#- News intensity per ZL trading day and bucket: articles tagged to the bucket and published (available) in
    the 7 days up to the end of the day, and for the tariff bucket a keyword tone (escalation words minus
    de-escalation words in those articles' titles). -#}
with

calendar as (

    select * from {{ ref('int_calendar__zl_trading_days') }}

),

tags as (

    select * from {{ ref('int_news__bucket_tags') }}

),

articles as (

    select * from {{ ref('stg_news__articles') }}

),

tone as (

    select
        article_id,
        (
            case when regexp_matches(lower(title), 'retaliat|escalat|new tariffs|duties on|trade war') then 1 else 0 end
            - case when regexp_matches(lower(title), 'truce|deal|pause|exemption|talks resume') then 1 else 0 end
        ) as tariff_tone

    from articles

),

buckets as (

    -- the buckets with `news: true` in the cbi_buckets var
    select unnest([{{ "'" ~ cbi_buckets(news_only=true) | join("', '") ~ "'" }}]) as bucket

),

windowed as (

    select
        calendar.as_of_date,
        tags.bucket,
        count(tags.article_id) as articles_7d,
        sum(tone.tariff_tone) as tone_7d

    from calendar
    inner join tags
        on
            calendar.as_of_cutoff_at > tags.available_at
            and tags.available_at >= calendar.as_of_cutoff_at - interval 7 day
    left join tone on tags.article_id = tone.article_id
    group by calendar.as_of_date, tags.bucket

),

final as (

    select
        calendar.as_of_date,
        buckets.bucket,
        coalesce(windowed.articles_7d, 0) as articles_7d,
        coalesce(windowed.tone_7d, 0) as tone_7d

    from calendar
    cross join buckets
    left join windowed
        on
            calendar.as_of_date = windowed.as_of_date
            and buckets.bucket = windowed.bucket

)

select * from final
