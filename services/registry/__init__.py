"""The register: areas, households, persons, ID numbers and assistance categories."""
