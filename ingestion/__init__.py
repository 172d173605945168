"""ShopFlow Analytics: ingestion (dlt), the simulated source systems and the `shopflow` CLI."""
