{#- The current version of every row (what raw holds now); the versions a revision replaced are
    in stg_cftc__cot_disaggregated_versions. -#}
{{ current_version('stg_cftc__cot_disaggregated_versions') }}
