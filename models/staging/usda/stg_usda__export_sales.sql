{#- The current version of every row (what raw holds now); the versions a revision replaced are
    in stg_usda__export_sales_versions. -#}
{{ current_version('stg_usda__export_sales_versions') }}
