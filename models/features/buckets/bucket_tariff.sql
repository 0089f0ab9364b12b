{#- Tariff bucket: trade-policy news from the feeds, tagged by the seed `news_bucket_keywords`: intensity,
    tone (escalation minus de-escalation words) and activity against its own recent past. -#}
with

news as (

    select * from {{ ref('int_news__bucket_intensity') }}
    where bucket = 'tariff'

),

daily as (

    select
        as_of_date,
        articles_7d as tariff_news_7d,
        tone_7d as tariff_tone_7d

    from news

),

final as (

    select
        as_of_date,
        tariff_news_7d,
        tariff_news_7d / 7.0 as tariff_news_mean_per_day_7d,
        tariff_tone_7d,
        {{ count_vs_average('tariff_news_7d', 21) }} as tariff_news_vs_21d,
        {{ count_zscore('tariff_news_7d', 63) }} as tariff_news_z_63d,
        {{ rolling('max', 'tariff_news_7d', 21) }} as tariff_news_max_21d,
        {{ change('tariff_tone_7d', 21) }} as tariff_tone_chg_21d,
        {{ rolling('sum', 'tariff_tone_7d', 21) }} as tariff_tone_sum_21d,
        {{ bucket_score(['-tariff_news_7d', '-tariff_tone_7d']) }} as tariff_score

    from daily

)

select * from final
