"""Brands: the unit analysts think in. A brand owns the ASINs it sells and the campaigns advertising them,
and is linked to the AMC instances where it advertises; list parameters of queries are filled from them."""

from django.db import models


class Brand(models.Model):
    owner = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="brands")
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    instances = models.ManyToManyField("instances.AMCInstance", blank=True, related_name="brand_set")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="uniq_brand_per_owner")]

    def __str__(self):
        return self.name


class BrandAsin(models.Model):
    owner_field = "brand__owner"

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="asins")
    asin = models.CharField("ASIN", max_length=10)
    title = models.CharField(max_length=500, blank=True)
    marketplace = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["asin"]
        verbose_name = "brand ASIN"
        constraints = [models.UniqueConstraint(fields=["brand", "asin"], name="uniq_asin_per_brand")]

    def __str__(self):
        return self.asin


class BrandCampaign(models.Model):
    owner_field = "brand__owner"

    class Type(models.TextChoices):
        SP = "SP", "Sponsored Products"
        SB = "SB", "Sponsored Brands"
        SD = "SD", "Sponsored Display"
        DSP = "DSP", "DSP"

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="campaigns")
    campaign_id = models.CharField(max_length=64)
    name = models.CharField(max_length=500, blank=True)
    type = models.CharField(max_length=3, choices=Type, default=Type.DSP)
    instance = models.ForeignKey(
        "instances.AMCInstance", null=True, blank=True, on_delete=models.SET_NULL, related_name="brand_campaigns"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["type", "name", "campaign_id"]
        constraints = [models.UniqueConstraint(fields=["brand", "campaign_id"], name="uniq_campaign_per_brand")]

    def __str__(self):
        return f"{self.campaign_id} ({self.type})"
