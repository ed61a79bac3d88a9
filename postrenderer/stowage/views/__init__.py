"""Views for people: reports, the storage map, the plan view and the demo."""
