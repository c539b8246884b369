"""The embedded settings page (placement ``DEFAULT``): frame authentication, forms, views, sync status."""
