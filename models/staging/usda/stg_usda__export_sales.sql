{#- The current version of every row (what raw holds now); the versions a revision replaced are
    in stg_usda__export_sales_versions. -#}
with

versions as (

    select * from {{ ref('stg_usda__export_sales_versions') }}

),

final as (

    select * exclude (superseded_at, version_number, known_from_at, known_until_at, is_current)
    from versions
    where is_current

)

select * from final
