{#- China bucket: Chinese demand for US soybeans (export sales), copper as a China activity proxy, news. -#}
with

futures as (

    select * from {{ ref('int_futures__daily_aligned') }}

),

exports as (

    select * from {{ ref('int_usda__export_sales_as_of') }}

),

news as (

    select * from {{ ref('int_news__bucket_intensity') }}
    where bucket = 'china'

),

joined as (

    select
        futures.as_of_date,
        futures.hg_log_return_1d,
        futures.zs_log_return_1d,
        futures.hg_close_adj,
        exports.* exclude (as_of_date, week_ending_date),  -- noqa: RF02
        news.articles_7d as china_news_7d

    from futures
    left join exports on futures.as_of_date = exports.as_of_date
    left join news on futures.as_of_date = news.as_of_date

),

final as (

    select
        as_of_date,
        {{ rolling_corr('hg_log_return_1d', 'zs_log_return_1d', 60) }} as corr_hg_zs_60d,
        {{ log_change('hg_close_adj', 63) }} as hg_mom_63d,
        net_sales_mt as soy_net_sales_mt,
        exports_mt as soy_exports_mt,
        outstanding_sales_mt as soy_outstanding_sales_mt,
        china_net_sales_mt as soy_china_net_sales_mt,
        china_outstanding_sales_mt as soy_china_outstanding_sales_mt,
        net_sales_4w_mt as soy_net_sales_4w_mt,
        china_net_sales_4w_mt as soy_china_net_sales_4w_mt,
        exports_4w_mt as soy_exports_4w_mt,
        net_sales_mom_4w_mt as soy_net_sales_mom_4w_mt,
        china_net_sales_mom_4w_mt as soy_china_net_sales_mom_4w_mt,
        china_share_net_sales_4w as soy_china_share_net_sales_4w,
        china_news_7d,
        {{ count_vs_average('china_news_7d', 21) }} as china_news_vs_21d,
        {{ bucket_score(['china_net_sales_4w_mt', 'net_sales_4w_mt']) }} as china_score

    from joined

)

select * from final
