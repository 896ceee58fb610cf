"""Shapes of the 12345 hotline routes, for the OpenAPI document (the views answer plain dicts)."""

from rest_framework import serializers


class HotlineTicketInSerializer(serializers.Serializer):
    ticket_id = serializers.CharField(max_length=64)
    category_code = serializers.CharField(max_length=40, help_text="a code of the 12345 category mapping")
    content = serializers.CharField(max_length=2000)
    title = serializers.CharField(max_length=200, required=False)
    address = serializers.CharField(max_length=300, required=False)
    lat = serializers.FloatField(required=False)
    lng = serializers.FloatField(required=False)
    grid_code = serializers.CharField(max_length=64, required=False)
    caller_name = serializers.CharField(max_length=60, required=False)
    caller_phone = serializers.CharField(max_length=20, required=False)


class HotlineReceiptSerializer(serializers.Serializer):
    ticket_id = serializers.CharField()
    case_number = serializers.CharField()
    status = serializers.CharField()
    grid = serializers.CharField()
    created = serializers.BooleanField()


class CallbackStateSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=["accepted", "replied", "resolved", "closed", "rating"])
    state = serializers.ChoiceField(choices=["pending", "sending", "sent", "failed"])
    attempts = serializers.IntegerField()
    last_error = serializers.CharField()
    sent_at = serializers.DateTimeField(allow_null=True)
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class HotlineTicketSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    ticket_id = serializers.CharField()
    case = serializers.IntegerField()
    case_number = serializers.CharField()
    case_status = serializers.CharField()
    grid_name = serializers.CharField()
    received_at = serializers.DateTimeField()
    address = serializers.CharField()
    category_code = serializers.CharField()
    callbacks = CallbackStateSerializer(many=True)
