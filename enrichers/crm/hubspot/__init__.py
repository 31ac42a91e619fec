"""HubSpot: the client (`client`: token, rate limits, the calls) and the mapper (`mapper`: HubSpot's wire format)."""
