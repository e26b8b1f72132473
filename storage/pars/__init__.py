"""What PARS asks, touching no database: formats, statuses and required fields (`rules`),
fields as people type them (`fields`), the one validator (`validation`) and the deadline
calendar (`calendar`)."""
