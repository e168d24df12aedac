from django.urls import path

from podpiska.billing import online_views, views

app_name = "billing"
urlpatterns = [
    path("invoices/<int:invoice_id>/", views.invoice_page, name="invoice"),
    path("invoices/<int:invoice_id>.pdf", views.invoice_pdf, name="invoice_pdf"),
    path("documents/upd/<int:document_id>.pdf", views.closing_document_pdf, name="closing_document_pdf"),
    path("documents/upd/<int:document_id>.xml", views.closing_document_xml, name="closing_document_xml"),
    path("online/return/<int:online_payment_id>/", online_views.online_return, name="online_return"),
    path(
        "online/yookassa/notifications/",
        online_views.yookassa_notifications,
        name="yookassa_notifications",
    ),
    path("orders/<int:order_id>/pay-online/", online_views.pay_online, name="pay_online"),
    path("sandbox/<int:online_payment_id>/", online_views.sandbox_page, name="sandbox"),
]
