"""Ground floor: settings, errors, records, clock, AWS clients, the API client, the store."""
