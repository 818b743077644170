from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse


@login_not_required
def status_page(request):
    return HttpResponse("status page")


@login_not_required
def unsubscribe(request, token):
    return HttpResponse("unsubscribe")


@login_not_required
def confirm(request, token):
    return HttpResponse("confirm")
