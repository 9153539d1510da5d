"""DDL of the initial revision (0001), split by concern; used only by that migration."""
