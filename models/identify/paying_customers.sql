{{ config(materialized='view', tags=['paying']) }}

{#- Identify only the people whose current journey state is "paying". -#}
WITH persons AS (
{{ nexus.customer_io_identify(user_id_column='entity_id', ignore_traits=['user_id']) }}
),

journey AS (
    SELECT entity_id, state_value
    FROM {{ ref('high_level_customer_journey') }}
    WHERE is_current
)

SELECT
    persons.*,
    journey.state_value AS "journey_state"
FROM persons
INNER JOIN journey
    ON journey.entity_id = persons."userId"
WHERE journey.state_value = 'paying'
