"""The installer page Bitrix24 opens in its iframe (POST /bitrix/install/)."""

from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bx24app.services.install import InstallError, install_params_from_request, portal_install

from .payload import frame_ancestors_header


@csrf_exempt
@xframe_options_exempt
@require_POST
def installer(request):
    params = {**request.GET.dict(), **request.POST.dict()}
    portal_origin = None
    try:
        install_params = install_params_from_request(params)
        portal_origin = install_params.portal_origin
        portal = portal_install(install_params)
    except InstallError as error:
        response = render(request, "bx24app/install_failed.html", {"step": error.step, "message": error.message},
                          status=400)
    else:
        response = render(request, "bx24app/install_done.html", {"portal": portal})
    response["Content-Security-Policy"] = frame_ancestors_header(portal_origin)
    return response
