"""Small pieces shared by ingest, cbi_ml and the orchestration: calendar, snapshots, run lock."""
