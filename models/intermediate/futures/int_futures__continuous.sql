{#-
    Continuous front series per root: roll by volume, never backwards; ratio back-adjustment.

    Roll rule: on each trade date the volume leader is the contract with the most volume (ties: the nearer
    expiry). The front contract is the furthest-dated leader seen so far, so the series never rolls back to
    an earlier month. On a roll date the old contract's bars stop and the new one's start.
    Back-adjustment: every price before a roll is multiplied by close(new) / close(old) on the roll date
    (ratio method), so log returns are those of a held contract and prices stay positive. Only scale-free
    functions of the adjusted series (returns, ratios) are used as features: a later roll rescales the whole
    past uniformly and changes none of them.
-#}
with

bars as (

    select * from {{ ref('stg_futures__ohlcv_daily') }}

),

root_totals as (

    select
        root,
        trade_date,
        sum(volume_contracts) as total_volume_contracts,
        sum(open_interest_contracts) as total_open_interest_contracts,
        first(contract_month order by volume_contracts desc nulls last, contract_month asc) as leader_month

    from bars
    group by root, trade_date

),

front_month as (

    select
        root,
        trade_date,
        total_volume_contracts,
        total_open_interest_contracts,
        max(leader_month) over (
            partition by root order by trade_date rows between unbounded preceding and current row
        ) as front_contract_month

    from root_totals

),

front_bars as (

    select
        bars.root,
        bars.trade_date,
        bars.contract,
        bars.contract_month,
        bars.open_price,
        bars.high_price,
        bars.low_price,
        bars.close_price,
        bars.volume_contracts,
        front_month.total_volume_contracts,
        front_month.total_open_interest_contracts,
        bars.available_at,
        lag(bars.contract) over (partition by bars.root order by bars.trade_date) as previous_contract

    from front_month
    inner join bars
        on
            front_month.root = bars.root
            and front_month.trade_date = bars.trade_date
            and front_month.front_contract_month = bars.contract_month

),

roll_factors as (

    select
        front_bars.*,
        coalesce(front_bars.previous_contract <> front_bars.contract, false) as is_roll,
        case
            when
                front_bars.previous_contract <> front_bars.contract
                and front_bars.close_price > 0
                and old_bars.close_price > 0
                then ln(front_bars.close_price / old_bars.close_price)
            else 0
        end as log_roll_factor,
        front_bars.previous_contract <> front_bars.contract
        and old_bars.close_price is null as is_roll_unadjusted

    from front_bars
    left join bars as old_bars
        on
            front_bars.root = old_bars.root
            and front_bars.trade_date = old_bars.trade_date
            and front_bars.previous_contract = old_bars.contract

),

adjusted as (

    select
        *,
        exp(coalesce(sum(log_roll_factor) over (
            partition by root order by trade_date rows between 1 following and unbounded following
        ), 0)) as adjustment_factor

    from roll_factors

),

final as (

    select
        root,
        trade_date,
        contract,
        contract_month,
        open_price,
        high_price,
        low_price,
        close_price,
        volume_contracts,
        total_volume_contracts,
        total_open_interest_contracts,
        is_roll,
        coalesce(is_roll_unadjusted, false) as is_roll_unadjusted,
        adjustment_factor,
        open_price * adjustment_factor as open_adj,
        high_price * adjustment_factor as high_adj,
        low_price * adjustment_factor as low_adj,
        close_price * adjustment_factor as close_adj,
        case
            when
                close_price > 0
                and lag(close_price * adjustment_factor) over (partition by root order by trade_date) > 0
                then ln(
                        close_price * adjustment_factor
                        / lag(close_price * adjustment_factor) over (partition by root order by trade_date)
                    )
        end as log_return_1d,
        available_at

    from adjusted

)

select * from final
