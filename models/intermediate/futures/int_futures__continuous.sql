{#-
    Continuous front series per root: roll by volume, never backwards; ratio back-adjustment.

    Roll rule: on each trade date the volume leader is the contract with the most volume (ties: the nearer
    expiry). A leader counts once it has led two trade dates in a row (a one-day blip, such as a vendor's
    continuous mapping pointing at a far month for a day, does not roll the series). The front contract is
    the furthest-dated confirmed leader so far, so the series never rolls back to an earlier month. A day
    on which the front contract has no bar is missing for that root (the daily alignment carries the last
    bar forward for a few days).
    A continuous series without contract months (`<root>.c.0`, from a quote API) is one "contract": its
    roll gaps cannot be removed and stay in its returns.
    Back-adjustment: every price before a roll is multiplied by close(new) / close(old) taken on the latest
    day, at most 10 days before the roll, on which both contracts have a bar (ratio method), so log returns
    are those of a held position and prices stay positive. Where no such day exists (a vendor file holding
    only the front contract each day) the roll closes the gap between the old contract's last close and the new
    contract's first close (`roll_method = 'gap'`): that day's return is lost (zero) rather than the
    calendar spread being booked as a fake return. Only scale-free functions of the adjusted series (returns, ratios) are
    used as features: a later roll rescales the whole past uniformly and changes none of them.
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
        first(
            coalesce(contract_month, date '0001-01-01')
            order by volume_contracts desc nulls last, contract_month asc, contract asc
        ) as leader_month

    from bars
    group by root, trade_date

),

leaders as (

    select
        *,
        lag(leader_month) over (partition by root order by trade_date) as previous_leader_month,
        row_number() over (partition by root order by trade_date) as day_number

    from root_totals

),

front_month as (

    select
        root,
        trade_date,
        total_volume_contracts,
        total_open_interest_contracts,
        max(
            case when leader_month = previous_leader_month or day_number = 1 then leader_month end
        ) over (
            partition by root order by trade_date rows between unbounded preceding and current row
        ) as front_contract_month

    from leaders

),

pair_ratios as (

    -- close(later contract) / close(earlier contract) on every day both trade
    select
        later.root,
        earlier.contract as old_contract,
        later.contract as new_contract,
        later.trade_date,
        ln(later.close_price / earlier.close_price) as log_ratio

    from bars as later
    inner join bars as earlier
        on
            later.root = earlier.root
            and later.trade_date = earlier.trade_date
            and later.contract_month > earlier.contract_month
    where later.close_price > 0 and earlier.close_price > 0

),

front_day_bars as (

    -- one bar per root and day even if two codes share the front month (two continuous series, say): the one
    -- with the most volume, then the first code, so the windows below never see a tie in their order
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
        bars.available_at

    from front_month
    inner join bars
        on
            front_month.root = bars.root
            and front_month.trade_date = bars.trade_date
            and front_month.front_contract_month = coalesce(bars.contract_month, date '0001-01-01')
    qualify row_number() over (
            partition by bars.root, bars.trade_date order by bars.volume_contracts desc nulls last, bars.contract asc
        ) = 1

),

front_bars as (

    select
        *,
        lag(contract) over (partition by root order by trade_date) as previous_contract,
        lag(close_price) over (partition by root order by trade_date) as previous_close_price

    from front_day_bars

),

rolls as (

    select
        front_bars.root,
        front_bars.trade_date,
        front_bars.previous_contract,
        front_bars.contract

    from front_bars
    where front_bars.previous_contract <> front_bars.contract

),

roll_ratios as (

    select
        rolls.root,
        rolls.trade_date,
        pair_ratios.log_ratio

    from rolls
    asof left join pair_ratios
        on
            rolls.root = pair_ratios.root
            and rolls.previous_contract = pair_ratios.old_contract
            and rolls.contract = pair_ratios.new_contract
            and rolls.trade_date >= pair_ratios.trade_date
    where pair_ratios.trade_date >= rolls.trade_date - interval 10 day

),

roll_factors as (

    select
        front_bars.*,
        coalesce(front_bars.previous_contract <> front_bars.contract, false) as is_roll,
        case
            when front_bars.previous_contract = front_bars.contract then null
            when roll_ratios.log_ratio is not null then 'same_day_ratio'
            when front_bars.close_price > 0 and front_bars.previous_close_price > 0 then 'gap'
        end as roll_method,
        case
            when front_bars.previous_contract = front_bars.contract then 0
            when roll_ratios.log_ratio is not null then roll_ratios.log_ratio
            when front_bars.close_price > 0 and front_bars.previous_close_price > 0
                then ln(front_bars.close_price / front_bars.previous_close_price)
            else 0
        end as log_roll_factor

    from front_bars
    left join roll_ratios
        on
            front_bars.root = roll_ratios.root
            and front_bars.trade_date = roll_ratios.trade_date

),

segments as (

    select
        *,
        sum(case when is_roll then 1 else 0 end) over (
            partition by root order by trade_date rows between unbounded preceding and current row
        ) as segment_number

    from roll_factors

),

segment_factors as (

    -- one factor per contract segment (not per row), so two days of the same contract share it exactly and
    -- an unchanged price gives a change of exactly zero
    select
        root,
        segment_number,
        exp(coalesce(sum(sum(log_roll_factor)) over (
            partition by root order by segment_number rows between 1 following and unbounded following
        ), 0)) as adjustment_factor

    from segments
    group by root, segment_number

),

adjusted as (

    select
        segments.*,
        segment_factors.adjustment_factor

    from segments
    inner join segment_factors
        on
            segments.root = segment_factors.root
            and segments.segment_number = segment_factors.segment_number

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
        roll_method,
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
