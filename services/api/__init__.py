"""The JSON API's contract: pydantic schemas and the OpenAPI document built from them."""
