"""The fulfilment pipeline: stock, the warehouse hand-off and the channel's shipment."""
