from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse


@permission_required("sentiment.view_mention", raise_exception=True)
def review_queue(request):
    return HttpResponse("The review queue arrives next.")
