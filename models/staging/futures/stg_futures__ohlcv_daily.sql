with

source as (

    select * from {{ source('futures', 'futures_ohlcv_daily') }}

),

renamed as (

    select
        upper(root)::varchar as root,
        upper(contract)::varchar as contract,
        -- contract month parsed from an outright code (root + CME month letter + two-digit year);
        -- NULL for a continuous series whose contracts are unknown (<root>.c.0, from a quote API)
        case
            when regexp_full_match(upper(contract), '[A-Z0-9]+[FGHJKMNQUVXZ][0-9]{2}')
                then make_date(
                        2000 + right(contract, 2)::integer,
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
