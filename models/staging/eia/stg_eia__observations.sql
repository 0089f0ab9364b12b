{#- The current version of every row (what raw holds now); the versions a revision replaced are
    in stg_eia__observations_versions. -#}
{{ current_version('stg_eia__observations_versions') }}
