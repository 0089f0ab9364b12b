{#- Fed bucket: policy rate, curve and real rates (the cost of carrying inventory and the dollar's pull),
    plus Fed/budget news intensity. -#}
with

core as (

    select * from {{ ref('core_macro_fx') }}

),

news as (

    select * from {{ ref('int_news__bucket_intensity') }}
    where bucket = 'fed'

),

joined as (

    select
        core.*,
        core.ust_10y_pct - core.cpi_yoy_pct as real_rate_10y_pct,
        news.articles_7d as fed_news_7d

    from core
    left join news on core.as_of_date = news.as_of_date

),

changes as (

    select
        *,
        {{ change('fed_funds_target_upper_pct', 63) }} as fed_funds_target_upper_chg_63d

    from joined

),

final as (

    select
        as_of_date,
        {{ change('curve_10y2y_pct', 63) }} as curve_10y2y_chg_63d,
        fed_funds_target_upper_chg_63d,
        real_rate_10y_pct,
        {{ change('real_rate_10y_pct', 21) }} as real_rate_10y_chg_21d,
        case when curve_10y2y_pct < 0 then 1 else 0 end as is_curve_inverted,
        ust_2y_pct - fed_funds_effective_pct as ust_2y_minus_fed_funds_pct,
        fed_news_7d,
        {{ count_vs_average('fed_news_7d', 21) }} as fed_news_vs_21d,
        {{ bucket_score(['-real_rate_10y_pct', '-fed_funds_target_upper_chg_63d']) }} as fed_score

    from changes

)

select * from final
