from django.apps import AppConfig


class InserviceConfig(AppConfig):
    name = "inservice"
    verbose_name = "全國教師在職進修資訊網"
