{#- The current version of every row (what raw holds now); the versions a revision replaced are
    in stg_epa__rin_prices_versions. -#}
{{ current_version('stg_epa__rin_prices_versions') }}
