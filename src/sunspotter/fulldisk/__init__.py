"""The product: any solar image in, a sunspot mask and a catalog out."""
