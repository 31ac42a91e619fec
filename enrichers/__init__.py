"""Step 3 of the house: link mentions to CRM contacts on evidence and consent, attach findings, route.

Depends only on the output types of `listener` and `classifiers`. The ports it needs from storage
(`ContactDirectory`, `DeliveryQueue`) are declared in `enrichers.ports` as Protocols.
"""
