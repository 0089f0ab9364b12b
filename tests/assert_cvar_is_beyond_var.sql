{#- Expected shortfall is the mean loss beyond VaR, so it can never be smaller; VaR at 99% is never below 95%. #}
select *
from {{ ref('zl_risk') }}
where cvar_95_ret < var_95_ret or cvar_99_ret < var_99_ret or var_99_ret < var_95_ret
