"""Real CRM sync: vendor-neutral logic (`sync`) and one package per vendor (`hubspot`)."""
