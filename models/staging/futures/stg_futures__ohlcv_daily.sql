with

source as (

    select * from {{ source('futures', 'futures_ohlcv_daily') }}

),

renamed as (

    select
        upper(root)::varchar as root,
        upper(contract)::varchar as contract,
        -- contract month parsed from an outright code (root + CME month letter + two-digit year, the century
        -- being the one that puts the delivery within 10 years after the trade date); NULL for a continuous
        -- series whose contracts are unknown (<root>.c.0, from a quote API)
        case
            when regexp_full_match(upper(contract), '[A-Z0-9]+[FGHJKMNQUVXZ][0-9]{2}')
                then make_date(
                        case
                            when 2000 + right(contract, 2)::integer > year(trade_date::date) + 10
                                then 1900 + right(contract, 2)::integer
                            else 2000 + right(contract, 2)::integer
                        end,
                        strpos('FGHJKMNQUVXZ', left(right(upper(contract), 3), 1)),
                        1
                    )
        end as contract_month,
        trade_date::date as trade_date,
        open::double as open_price,
        high::double as high_price,
        low::double as low_price,
        close::double as close_price,
        volume::bigint as volume_contracts,
        open_interest::bigint as open_interest_contracts,
        available_at::timestamp as available_at,
        _loaded_at::timestamp as loaded_at,
        _run_id as ingest_run_id

    from source

)

select * from renamed
